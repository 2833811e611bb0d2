// AMF0 encoding/decoding: the subset RTMP commands and FLV onMetaData use.
// ECMA arrays decode to plain objects; `undefined` encodes as AMF0 undefined (0x06).

export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Object | Amf0Value[];
export interface Amf0Object {
  [key: string]: Amf0Value;
}

const NUMBER = 0x00;
const BOOLEAN = 0x01;
const STRING = 0x02;
const OBJECT = 0x03;
const NULL = 0x05;
const UNDEFINED = 0x06;
const REFERENCE = 0x07;
const ECMA_ARRAY = 0x08;
const OBJECT_END = 0x09;
const STRICT_ARRAY = 0x0a;
const DATE = 0x0b;
const LONG_STRING = 0x0c;

export class Amf0Error extends Error {
  override name = 'Amf0Error';
}

/** Encodes values one after another, as in a command message body. */
export function encodeAmf0(values: readonly Amf0Value[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) encodeValue(v, parts);
  return Buffer.concat(parts);
}

function encodeString(s: string, parts: Buffer[]): void {
  const bytes = Buffer.from(s, 'utf8');
  const head = Buffer.allocUnsafe(bytes.length > 0xffff ? 5 : 3);
  if (bytes.length > 0xffff) {
    head[0] = LONG_STRING;
    head.writeUInt32BE(bytes.length, 1);
  } else {
    head[0] = STRING;
    head.writeUInt16BE(bytes.length, 1);
  }
  parts.push(head, bytes);
}

function encodeKey(key: string, parts: Buffer[]): void {
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length > 0xffff) throw new Amf0Error('object key longer than 65535 bytes');
  const head = Buffer.allocUnsafe(2);
  head.writeUInt16BE(bytes.length, 0);
  parts.push(head, bytes);
}

function encodeValue(v: Amf0Value, parts: Buffer[]): void {
  if (v === null) {
    parts.push(Buffer.of(NULL));
  } else if (v === undefined) {
    parts.push(Buffer.of(UNDEFINED));
  } else if (typeof v === 'number') {
    const b = Buffer.allocUnsafe(9);
    b[0] = NUMBER;
    b.writeDoubleBE(v, 1);
    parts.push(b);
  } else if (typeof v === 'boolean') {
    parts.push(Buffer.of(BOOLEAN, v ? 1 : 0));
  } else if (typeof v === 'string') {
    encodeString(v, parts);
  } else if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = DATE;
    b.writeDoubleBE(v.getTime(), 1);
    parts.push(b);
  } else if (Array.isArray(v)) {
    const head = Buffer.allocUnsafe(5);
    head[0] = STRICT_ARRAY;
    head.writeUInt32BE(v.length, 1);
    parts.push(head);
    for (const item of v) encodeValue(item, parts);
  } else {
    parts.push(Buffer.of(OBJECT));
    for (const [key, value] of Object.entries(v)) {
      encodeKey(key, parts);
      encodeValue(value, parts);
    }
    parts.push(Buffer.of(0, 0, OBJECT_END));
  }
}

/** Decodes every value in `buf` (a command or data message body). */
export function decodeAmf0(buf: Buffer): Amf0Value[] {
  const reader = new Reader(buf);
  const out: Amf0Value[] = [];
  while (reader.pos < buf.length) out.push(reader.value());
  return out;
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Amf0Error(`truncated AMF0 at byte ${this.pos}`);
  }

  private utf8(len: number): string {
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  private key(): string {
    this.need(2);
    const len = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return this.utf8(len);
  }

  private properties(into: Amf0Object): Amf0Object {
    for (;;) {
      const key = this.key();
      if (key === '') {
        this.need(1);
        // Some encoders end an ECMA array without the end marker; tolerate it at end of buffer.
        if (this.buf[this.pos] === OBJECT_END) this.pos++;
        return into;
      }
      into[key] = this.value();
    }
  }

  value(): Amf0Value {
    this.need(1);
    const marker = this.buf[this.pos++];
    switch (marker) {
      case NUMBER: {
        this.need(8);
        const n = this.buf.readDoubleBE(this.pos);
        this.pos += 8;
        return n;
      }
      case BOOLEAN:
        this.need(1);
        return this.buf[this.pos++] !== 0;
      case STRING: {
        this.need(2);
        const len = this.buf.readUInt16BE(this.pos);
        this.pos += 2;
        return this.utf8(len);
      }
      case LONG_STRING: {
        this.need(4);
        const len = this.buf.readUInt32BE(this.pos);
        this.pos += 4;
        return this.utf8(len);
      }
      case OBJECT:
        return this.properties({});
      case ECMA_ARRAY:
        this.need(4);
        this.pos += 4; // the count is advisory; the end marker terminates
        return this.properties({});
      case STRICT_ARRAY: {
        this.need(4);
        const count = this.buf.readUInt32BE(this.pos);
        this.pos += 4;
        const arr: Amf0Value[] = [];
        for (let i = 0; i < count; i++) arr.push(this.value());
        return arr;
      }
      case DATE: {
        this.need(10);
        const ms = this.buf.readDoubleBE(this.pos);
        this.pos += 10;
        return new Date(ms);
      }
      case NULL:
        return null;
      case UNDEFINED:
        return undefined;
      case REFERENCE:
        this.need(2);
        this.pos += 2;
        return undefined;
      default:
        throw new Amf0Error(
          `unsupported AMF0 marker 0x${(marker ?? 0).toString(16)} at byte ${this.pos - 1}`,
        );
    }
  }
}
