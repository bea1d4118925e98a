/** The patterns ids and references must match (plain regular expressions: no zod). */

export const REFERENCE_PATTERN = /^[a-zA-Z0-9_-]{1,128}$/;
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * What a secret id may be: a file name in `<state-dir>/secrets/` (a UUID, as the reference's
 * secrets have, fits too), never a path and never a dot file.
 */
export const SECRET_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;
