const { project } = require('../../jest.preset');

module.exports = project(__dirname, 'api-schemas');
