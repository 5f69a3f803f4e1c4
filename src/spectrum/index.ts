/** Spectrum module (docs/science.md A0–A4): exact and top-k eigensolvers, power-law fits, effective ranks. */
export { eighSymmetric } from './eigh.js';
export type { EighOptions, EighResult } from './eigh.js';
export { lanczosTopK, denseMatVec } from './lanczos.js';
export type { LanczosOptions, LanczosResult, MatVec } from './lanczos.js';
export { fitDecay, logIndexGrid, defaultDecayWindow, theilSenSlope, hillAlpha, fitEsdPowerLaw } from './powerLaw.js';
export type { DecayFit, DecayFitOptions, EsdFit, EsdFitOptions } from './powerLaw.js';
export { entropyRank, participationRatio, participationRatioFromMatrix, stableRank, ridgeDof, tailRanks } from './effectiveRank.js';
export { summarizeSpectrum } from './summarizeSpectrum.js';
export type { SpectrumOptions, SpectrumSummary } from './summarizeSpectrum.js';
