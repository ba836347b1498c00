import type { App, RouteDeps } from "../../context.js";
import { register as getCustomerSegments } from "./get-customer-segments.js";
import { register as getSegment } from "./get-segment.js";
import { register as getSegmentSize } from "./get-segment-size.js";
import { register as listSegmentMembers } from "./list-segment-members.js";
import { register as listSegments } from "./list-segments.js";
import { register as putSegment } from "./put-segment.js";

/** R29's segments (issue 12), one file each. */
export const SEGMENT_ROUTES: ((app: App, deps: RouteDeps) => void)[] = [
  putSegment,
  listSegments,
  getSegment,
  listSegmentMembers,
  getSegmentSize,
  getCustomerSegments,
];
