import { defineConfig } from 'vite'

// `npm run dev -w @computegraph/dashboard` serves the page with hot reload against a gateway on :4000.
const gateway = 'http://127.0.0.1:4000'

export default defineConfig({
  // Relative asset URLs: the gateway serves index.html at / and the hashed files under /assets.
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
    // GraphiQL and React: about 2 MB, loaded only by the explorer page.
    chunkSizeWarningLimit: 2500,
    rollupOptions: { input: { dashboard: 'index.html', explorer: 'explorer.html' } },
  },
  server: {
    proxy: { '/graphql': { target: gateway, ws: true } },
  },
})
