// Templates are precompiled when the CLI is built (and when tests load them), so acore never
// compiles handlebars at run time: only the small runtime ships in the hot path.
import Handlebars from 'handlebars';

export const TEMPLATE_OPTIONS = { noEscape: true, strict: true };

/** A module whose default export is the precompiled template specification. */
export function templateModule(source) {
  return `export default ${Handlebars.precompile(source, TEMPLATE_OPTIONS)};`;
}
