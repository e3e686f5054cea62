/** How message-printing commands write messages (`--output`). Kept apart from the renderers so that defining a flag loads no rendering code. */
export const OUTPUT_MODES = ['line', 'pretty', 'json', 'raw'] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];
