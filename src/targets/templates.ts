/**
 * Templates arrive precompiled (scripts/hbs.mjs, at build time and in tests); only the
 * handlebars runtime is loaded to render them.
 */
import type HandlebarsFull from 'handlebars';
import runtime from 'handlebars/runtime.js';

// The runtime's own typings are empty; it has the same `template` as the full package.
const Handlebars = runtime as unknown as typeof HandlebarsFull;

export type TemplateSpec = Parameters<typeof HandlebarsFull.template>[0];
export type Template = (context: object) => string;

export function template(spec: TemplateSpec): Template {
  return Handlebars.template(spec) as Template;
}
