/** esbuild bundles imported CSS into app.css; the import has no value. */
declare module "*.css";
