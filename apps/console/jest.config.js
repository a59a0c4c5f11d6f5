const { project } = require('../../jest.preset');

// The console's pure modules (formatting, routing, diff folding, HTML framing) run under Node.
module.exports = project(__dirname, 'console');
