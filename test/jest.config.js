const { project } = require('../jest.preset');

// Cross-app tests start the built services as real processes, so they run after `npm run build`.
module.exports = project(__dirname, 'e2e', { testTimeout: 120_000 });
