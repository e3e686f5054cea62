/**
 * The bytes as a Buffer sharing their memory: drivers (amqplib, kafkajs, better-sqlite3) want
 * Buffers, and copying every body of a large publish would only feed the garbage collector.
 */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
