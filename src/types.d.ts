declare module '*.hbs' {
  /** A precompiled handlebars template specification (scripts/hbs.mjs). */
  const spec: import('./targets/templates.ts').TemplateSpec;
  export default spec;
}
