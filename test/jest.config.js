const { project } = require('../jest.preset');

// Cross-app tests start the built services as real processes, so they run after `npm run build`.
// Some (the tracing spec) start the composer in-process: marked ships ESM only, so Jest compiles it.
module.exports = project(__dirname, 'e2e', { testTimeout: 120_000, transformIgnorePatterns: ['/node_modules/(?!marked/)'] });
