declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const SwaggerUIBundle: (options: object) => unknown;
  export default SwaggerUIBundle;
}
