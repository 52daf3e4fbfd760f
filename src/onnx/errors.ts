// Typed errors of the ONNX layer: a code for programs, a message for people that names the file and the
// problem (and, where there is one, what to do about it).

export type OnnxErrorCode =
  | 'not-found'
  | 'empty-file'
  | 'not-onnx'
  | 'truncated'
  | 'invalid-tensor'
  | 'external-data'
  | 'unsafe-path'
  | 'too-large'
  | 'unsupported'
  | 'write-failed';

export class OnnxError extends Error {
  constructor(readonly code: OnnxErrorCode, message: string, readonly file?: string) {
    super(file ? `${file}: ${message}` : message);
    this.name = 'OnnxError';
  }
}
