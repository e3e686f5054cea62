import type { Envelope } from '../message/envelope.js';
import { renderMessage } from '../message/render.js';
import type { OutputMode } from './output-mode.js';
import type { IOStreams } from './streams.js';

/** Writes messages to stdout in the chosen mode, one per line (`raw`: the exact body bytes, then a newline). */
export function writeEnvelope(io: IOStreams, mode: OutputMode, envelope: Envelope): void {
  const rendered = renderMessage(envelope, mode, { colors: io.colors });
  io.out.write(rendered);
  io.out.write(mode === 'pretty' ? '\n\n' : '\n');
}
