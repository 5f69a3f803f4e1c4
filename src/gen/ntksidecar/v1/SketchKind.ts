// Original file: proto/ntksidecar/v1/sidecar.proto

export const SketchKind = {
  SKETCH_KIND_UNSPECIFIED: 'SKETCH_KIND_UNSPECIFIED',
  /**
   * Omega entries i.i.d. N(0, 1/m)
   */
  SKETCH_KIND_GAUSSIAN: 'SKETCH_KIND_GAUSSIAN',
  /**
   * Omega entries +-1/sqrt(m)
   */
  SKETCH_KIND_RADEMACHER: 'SKETCH_KIND_RADEMACHER',
} as const;

export type SketchKind =
  | 'SKETCH_KIND_UNSPECIFIED'
  | 0
  /**
   * Omega entries i.i.d. N(0, 1/m)
   */
  | 'SKETCH_KIND_GAUSSIAN'
  | 1
  /**
   * Omega entries +-1/sqrt(m)
   */
  | 'SKETCH_KIND_RADEMACHER'
  | 2

export type SketchKind__Output = typeof SketchKind[keyof typeof SketchKind]
