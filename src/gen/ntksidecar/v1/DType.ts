// Original file: proto/ntksidecar/v1/sidecar.proto

export const DType = {
  DTYPE_UNSPECIFIED: 'DTYPE_UNSPECIFIED',
  /**
   * IEEE 754 binary32, 4 bytes, little-endian
   */
  DTYPE_F32: 'DTYPE_F32',
  /**
   * IEEE 754 binary64, 8 bytes, little-endian
   */
  DTYPE_F64: 'DTYPE_F64',
  /**
   * IEEE 754 binary16, 2 bytes, little-endian
   */
  DTYPE_F16: 'DTYPE_F16',
  /**
   * bfloat16 (upper half of a binary32), 2 bytes, little-endian
   */
  DTYPE_BF16: 'DTYPE_BF16',
} as const;

export type DType =
  | 'DTYPE_UNSPECIFIED'
  | 0
  /**
   * IEEE 754 binary32, 4 bytes, little-endian
   */
  | 'DTYPE_F32'
  | 1
  /**
   * IEEE 754 binary64, 8 bytes, little-endian
   */
  | 'DTYPE_F64'
  | 2
  /**
   * IEEE 754 binary16, 2 bytes, little-endian
   */
  | 'DTYPE_F16'
  | 3
  /**
   * bfloat16 (upper half of a binary32), 2 bytes, little-endian
   */
  | 'DTYPE_BF16'
  | 4

export type DType__Output = typeof DType[keyof typeof DType]
