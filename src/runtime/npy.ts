// NumPy files without NumPy: `.npy` arrays (format versions 1-3) and `.npz` archives (zip files of .npy
// members, stored or deflated as np.savez / np.savez_compressed write them, zip64 included). The zip
// reader reads the central directory and inflates with node:zlib; no dependency is needed for this.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { viewAs, type ElementType, type NumericArray } from './typedArrays';

export type NpyDtype = ElementType;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** The values in C order, little-endian, in a fresh aligned typed array (float16 as raw Uint16Array bits). */
  data: NumericArray;
}

export class NpyError extends Error {
  constructor(message: string) { super(message); this.name = 'NpyError'; }
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<string, { dtype: NpyDtype; size: number }> = {
  f4: { dtype: 'float32', size: 4 }, f8: { dtype: 'float64', size: 8 }, f2: { dtype: 'float16', size: 2 },
  i1: { dtype: 'int8', size: 1 }, u1: { dtype: 'uint8', size: 1 }, i2: { dtype: 'int16', size: 2 }, u2: { dtype: 'uint16', size: 2 },
  i4: { dtype: 'int32', size: 4 }, u4: { dtype: 'uint32', size: 4 }, i8: { dtype: 'int64', size: 8 }, u8: { dtype: 'uint64', size: 8 },
  b1: { dtype: 'bool', size: 1 },
};

/** Parses one .npy file's bytes. */
export function parseNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyError('is not a .npy file (no \\x93NUMPY magic)');
  const major = bytes[6];
  if (major < 1 || major > 3) throw new NpyError(`uses .npy format version ${major}, which is not supported (1-3 are)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLen > bytes.length) throw new NpyError('is truncated: the header runs past the end of the file');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new NpyError(`has a header numpy did not write: ${header.trim()}`);
  if (fortran === 'True') throw new NpyError('is stored in Fortran order; save it in C order (np.save(f, np.ascontiguousarray(a)))');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const n = Number(s.replace(/L$/, ''));
    if (!Number.isInteger(n) || n < 0) throw new NpyError(`has an invalid shape (${shapeText})`);
    return n;
  });
  const order = descr[0];
  const kind = DESCR[descr.slice(1)];
  if (!kind || !['<', '>', '|', '='].includes(order)) throw new NpyError(`holds dtype "${descr}", which is not supported (float16/32/64, int8-64, uint8-64 and bool are)`);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = headerStart + headerLen;
  const bytesNeeded = count * kind.size;
  if (start + bytesNeeded > bytes.length) throw new NpyError(`is truncated: ${count} ${kind.dtype} values need ${bytesNeeded} bytes, the file has ${bytes.length - start}`);
  const copy = new Uint8Array(bytesNeeded);
  copy.set(bytes.subarray(start, start + bytesNeeded));
  if (order === '>' && kind.size > 1) {
    for (let i = 0; i < bytesNeeded; i += kind.size) copy.subarray(i, i + kind.size).reverse();
  }
  return { dtype: kind.dtype, shape, data: viewAs(kind.dtype, copy.buffer) };
}

export function readNpy(file: string): NpyArray {
  return parseNpy(fs.readFileSync(file));
}

interface ZipEntry { name: string; method: number; compressedSize: number; size: number; localOffset: number }

/** The central directory of a zip archive (zip64 records and extra fields are followed). */
function zipEntries(buf: Buffer): ZipEntry[] {
  const EOCD = 0x06054b50;
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === EOCD) { eocd = i; break; }
  }
  if (eocd < 0) throw new NpyError('is not a zip archive (no end of central directory record)');
  let count = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) throw new NpyError('is a zip64 archive without its locator record');
    const z64 = Number(buf.readBigUInt64LE(loc + 8));
    if (buf.readUInt32LE(z64) !== 0x06064b50) throw new NpyError('has a broken zip64 end of central directory record');
    count = Number(buf.readBigUInt64LE(z64 + 32));
    cdOffset = Number(buf.readBigUInt64LE(z64 + 48));
  }
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw new NpyError('has a broken central directory');
    const method = buf.readUInt16LE(p + 10);
    let compressedSize = buf.readUInt32LE(p + 20), size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28), extraLen = buf.readUInt16LE(p + 30), commentLen = buf.readUInt16LE(p + 32);
    let localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extra field: the 64-bit values, in this order, for the fields that are 0xffffffff.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = buf.readUInt16LE(e), len = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) { size = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (localOffset === 0xffffffff) { localOffset = Number(buf.readBigUInt64LE(q)); q += 8; }
      }
      e += 4 + len;
    }
    entries.push({ name, method, compressedSize, size, localOffset });
    p = extraEnd + commentLen;
  }
  return entries;
}

function entryBytes(buf: Buffer, e: ZipEntry): Uint8Array {
  if (buf.readUInt32LE(e.localOffset) !== 0x04034b50) throw new NpyError(`has a broken local header for "${e.name}"`);
  const start = e.localOffset + 30 + buf.readUInt16LE(e.localOffset + 26) + buf.readUInt16LE(e.localOffset + 28);
  const raw = buf.subarray(start, start + e.compressedSize);
  if (raw.length !== e.compressedSize) throw new NpyError(`is truncated inside "${e.name}"`);
  if (e.method === 0) return raw;
  if (e.method === 8) {
    const out = zlib.inflateRawSync(raw);
    if (out.length !== e.size) throw new NpyError(`member "${e.name}" inflates to ${out.length} bytes, not ${e.size}`);
    return out;
  }
  throw new NpyError(`member "${e.name}" uses zip compression method ${e.method}; only stored and deflated members are supported (np.savez, np.savez_compressed)`);
}

/** The arrays of an .npz archive, by name (the member name without `.npy`), in archive order. */
export function readNpz(file: string): Map<string, NpyArray> {
  const buf = fs.readFileSync(file);
  const out = new Map<string, NpyArray>();
  for (const e of zipEntries(buf)) {
    if (e.name.endsWith('/')) continue;
    if (!e.name.endsWith('.npy')) throw new NpyError(`holds "${e.name}", which is not a .npy member`);
    let array: NpyArray;
    try { array = parseNpy(entryBytes(buf, e)); } catch (err) {
      throw new NpyError(`member "${e.name}" ${(err as Error).message}`);
    }
    out.set(e.name.slice(0, -4), array);
  }
  return out;
}
