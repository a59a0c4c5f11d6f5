const { project } = require('../../jest.preset');

// marked ships ESM only (the /guide and /architecture pages); Jest's CommonJS runtime needs it compiled.
module.exports = project(__dirname, 'api', { transformIgnorePatterns: ['/node_modules/(?!marked/)'] });
