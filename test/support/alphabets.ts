/** R33: a Russian text is written in Cyrillic and an English one in Latin; these find the other alphabet. */
export const LATIN_LETTER = /[A-Za-z]/;
export const CYRILLIC_LETTER = /[\u0400-\u04FF]/;
