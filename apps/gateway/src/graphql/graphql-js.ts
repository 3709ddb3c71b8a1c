// graphql-js as Apollo Server loads it. Under vitest a bare 'graphql' import resolves to the package's .mjs build
// while Apollo, loaded by Node, gets the CommonJS one: two copies, and graphql-js refuses a schema built with the
// other. Naming the CommonJS entry keeps one copy everywhere; under plain Node it is the same file 'graphql' is.
export * from 'graphql/index.js'
