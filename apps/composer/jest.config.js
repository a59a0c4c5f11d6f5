const { project } = require('../../jest.preset');

// marked ships ESM only; Jest's CommonJS runtime needs it compiled (plain Node 20.19+ requires it natively).
module.exports = project(__dirname, 'composer', { transformIgnorePatterns: ['/node_modules/(?!marked/)'] });
