'use strict';
// The empty task of the round-trip comparison.
module.exports = () => 0;
