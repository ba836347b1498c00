/** A one-line progress bar on `stream` (only when it is a terminal; otherwise a line every 10%). */
export function progressBar(
  label: string,
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
) {
  const start = Date.now();
  let lastTenth = -1;
  return (done: number, total: number) => {
    const fraction = total === 0 ? 1 : done / total;
    const elapsed = (Date.now() - start) / 1000;
    const eta = fraction > 0 ? elapsed / fraction - elapsed : 0;
    const text = `${label} ${String(done).padStart(String(total).length)}/${total} ${(fraction * 100).toFixed(0).padStart(3)}% · ${elapsed.toFixed(0)}s elapsed · ~${eta.toFixed(0)}s left`;
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      stream.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${text}`);
      if (done === total) stream.write("\n");
    } else {
      const tenth = Math.floor(fraction * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        stream.write(`${text}\n`);
      }
    }
  };
}
