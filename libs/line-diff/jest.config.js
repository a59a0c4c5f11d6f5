const { project } = require('../../jest.preset');

module.exports = project(__dirname, 'line-diff');
