/**
 * What ffprobe would say about a plain JPEG or PNG picture, read from its header bytes. A
 * one-frame command's output probe (a new ffprobe process: as much CPU as the FFmpeg run
 * itself) is the largest cost after FFmpeg for thumbnails; for the common pictures the header
 * has every field the output meta takes (codec, pixel format, size). Anything less common
 * (12-bit or arithmetic JPEG, RGB/CMYK/Adobe-transform JPEG, the ITU-601 range comment, PNG
 * below 8 bits, transparency chunks that turn into an alpha channel, animated PNG, a header past
 * the bytes given) answers null and the caller runs ffprobe. test/unit/media/image-header.test.ts
 * holds it to ffprobe's own answers on FFmpeg's outputs.
 */
import type { ProbeJson } from './meta.ts';

/** Bytes of the file's start a caller should pass (a JPEG's EXIF/ICC segments come first). */
export const IMAGE_HEADER_BYTES = 256 * 1024;

/** JPEG sampling factors (Y, Cb, Cr as HxV) → FFmpeg's full-range pixel format. */
const JPEG_SAMPLING: Record<string, string> = {
  '11,11,11': 'yuvj444p',
  '22,11,11': 'yuvj420p',
  '21,11,11': 'yuvj422p',
  '12,11,11': 'yuvj440p',
  '41,11,11': 'yuvj411p',
};

function picture(codec: string, pixFmt: string, width: number, height: number, format: string): ProbeJson | null {
  if (width <= 0 || height <= 0) return null;
  return {
    streams: [{ codec_type: 'video', codec_name: codec, pix_fmt: pixFmt, width, height }],
    format: { format_name: format },
  };
}

function jpeg(b: Buffer): ProbeJson | null {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    const len = b.readUInt16BE(i + 2);
    if (len < 2 || i + 2 + len > b.length) return null;
    const seg = b.subarray(i + 4, i + 2 + len);
    // Adobe APP14 (colour transform: RGB/CMYK) and FFmpeg's "CS=ITU601" comment change the
    // pixel format ffprobe reports: leave those to ffprobe.
    if (marker === 0xee && seg.subarray(0, 5).toString('latin1') === 'Adobe') return null;
    if (marker === 0xfe && seg.toString('latin1').includes('CS=ITU601')) return null;
    // SOF0 (baseline), SOF1 (extended), SOF2 (progressive), Huffman-coded only.
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      if (seg.length < 6) return null;
      const precision = seg[0];
      const height = seg.readUInt16BE(1);
      const width = seg.readUInt16BE(3);
      const n = seg[5]!;
      if (precision !== 8 || seg.length < 6 + 3 * n) return null;
      if (n === 1) return picture('mjpeg', 'gray', width, height, 'image2');
      if (n !== 3) return null;
      const ids: number[] = [];
      let h: number[] = [];
      let v: number[] = [];
      for (let c = 0; c < 3; c++) {
        ids.push(seg[6 + 3 * c]!);
        h.push(seg[7 + 3 * c]! >> 4);
        v.push(seg[7 + 3 * c]! & 15);
      }
      // Components named 'R', 'G', 'B' are RGB, not YCbCr.
      if (ids[0] === 0x52 && ids[1] === 0x47 && ids[2] === 0x42) return null;
      // As FFmpeg's decoder does: factors all even in one direction are halved (its encoder
      // writes 4:2:2 as 2x2, 1x2, 1x2).
      if (h.every((x) => x % 2 === 0)) h = h.map((x) => x / 2);
      if (v.every((x) => x % 2 === 0)) v = v.map((x) => x / 2);
      const pixFmt = JPEG_SAMPLING[h.map((x, c) => `${x}${v[c]}`).join(',')];
      return pixFmt ? picture('mjpeg', pixFmt, width, height, 'image2') : null;
    }
    // Any other SOFn (lossless, hierarchical, arithmetic) or the scan before a frame header.
    if ((marker >= 0xc3 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xda)
      return null;
    i += 2 + len;
  }
  return null;
}

/** PNG colour type and bit depth → FFmpeg's pixel format (8 and 16 bits only). */
const PNG_FORMATS: Record<string, string> = {
  '0,8': 'gray',
  '0,16': 'gray16be',
  '2,8': 'rgb24',
  '2,16': 'rgb48be',
  '3,8': 'pal8',
  '4,8': 'ya8',
  '4,16': 'ya16be',
  '6,8': 'rgba',
  '6,16': 'rgba64be',
};
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function png(b: Buffer): ProbeJson | null {
  if (b.length < 33 || !b.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  if (b.subarray(12, 16).toString('latin1') !== 'IHDR' || b.readUInt32BE(8) !== 13) return null;
  const width = b.readUInt32BE(16);
  const height = b.readUInt32BE(20);
  const depth = b[24]!;
  const colour = b[25]!;
  const interlace = b[28]!;
  const pixFmt = PNG_FORMATS[`${colour},${depth}`];
  if (!pixFmt || interlace > 1) return null;
  // The chunks before the image data: an animation control (APNG) or transparency outside a
  // palette changes what ffprobe reports; both must be seen before IDAT.
  let i = 33;
  while (i + 8 <= b.length) {
    const len = b.readUInt32BE(i);
    const type = b.subarray(i + 4, i + 8).toString('latin1');
    if (type === 'IDAT') return picture('png', pixFmt, width, height, 'png_pipe');
    if (type === 'acTL' || (type === 'tRNS' && colour !== 3)) return null;
    i += 12 + len;
  }
  return null;
}

/**
 * ffprobe's JSON (the fields toOutputFileMeta reads) for a JPEG named *.jpg / *.jpeg or a PNG
 * named *.png, from the first bytes of the file; null when the caller should run ffprobe.
 */
export function probeImageHeader(fileName: string, head: Buffer): ProbeJson | null {
  const ext = fileName.slice(fileName.lastIndexOf('.') + 1).toLowerCase();
  if ((ext === 'jpg' || ext === 'jpeg') && head[0] === 0xff && head[1] === 0xd8) return jpeg(head);
  if (ext === 'png') return png(head);
  return null;
}
