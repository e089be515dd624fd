/**
 * The engines this build links: filled in as lib/translate and lib/verifier land. Kept in one
 * small module so the pipeline itself never changes when an engine appears.
 */
import type { Engines } from "./engines";

export const defaultEngines: Engines = {};
