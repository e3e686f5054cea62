/**
 * Compression codecs kafkajs lacks (it ships gzip only), registered so mq reads every topic kcat
 * and the Java client write (DESIGN.md §5.2). Each library installs without a download:
 * - snappy: kafkajs-snappy over snappyjs (pure JS), which also unwraps the Java client's xerial
 *   framing;
 * - lz4: lz4-napi's frame format (Kafka's LZ4 since message format v1), a Rust binary shipped
 *   inside per-platform npm packages;
 * - zstd: fzstd (pure JS), decompression only. mq never compresses what it publishes, so the
 *   zstd compressor is a clear refusal instead of another native dependency.
 * Each library is loaded on first use: a topic without that codec never pays for it.
 */
import { createRequire } from 'node:module';
import { MqError } from '../../errors.js';

/** The shape kafkajs expects of `CompressionCodecs[type]()`. */
export interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

type CodecName = 'snappy' | 'lz4' | 'zstd';

const require = createRequire(import.meta.url);

function load<T>(codec: CodecName, library: string): T {
  try {
    return require(library) as T;
  } catch (error) {
    throw new MqError(
      `cannot load the ${codec} codec (${library}) on this platform: ${(error as Error).message}`,
      { cause: error, hint: `reinstall mq so that npm installs ${library} for this platform` },
    );
  }
}

export function snappyCodec(): Codec {
  const snappy = load<() => Codec>('snappy', 'kafkajs-snappy')();
  return {
    compress: (encoder) => snappy.compress(encoder),
    decompress: (buffer) => snappy.decompress(buffer),
  };
}

interface Lz4 {
  compressFrameSync(data: Buffer): Buffer;
  decompressFrameSync(data: Buffer): Buffer;
}

export function lz4Codec(): Codec {
  const lz4 = load<Lz4>('lz4', 'lz4-napi');
  return {
    compress: (encoder) => Promise.resolve(lz4.compressFrameSync(encoder.buffer)),
    decompress: (buffer) => Promise.resolve(lz4.decompressFrameSync(buffer)),
  };
}

interface Fzstd {
  decompress(data: Uint8Array): Uint8Array;
}

export function zstdCodec(): Codec {
  const zstd = load<Fzstd>('zstd', 'fzstd');
  return {
    compress: () =>
      Promise.reject(new MqError('mq reads zstd-compressed records but does not write them')),
    decompress: (buffer) => {
      const out = zstd.decompress(buffer);
      return Promise.resolve(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
    },
  };
}

/** kafkajs's CompressionTypes: Snappy 2, LZ4 3, ZSTD 4. */
export const CODECS: Record<2 | 3 | 4, () => Codec> = {
  2: snappyCodec,
  3: lz4Codec,
  4: zstdCodec,
};

/** Registers the codecs in kafkajs's table (process-wide, idempotent). */
export function registerCodecs(table: Record<number, () => unknown>): void {
  for (const [type, codec] of Object.entries(CODECS)) table[Number(type)] = codec;
}
