// Preload (node -r) that makes @resvg/resvg-js unresolvable, as in an install without the optional renderer.
'use strict';
const Module = require('module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '@resvg/resvg-js' || request.startsWith('@resvg/')) {
    const e = new Error(`Cannot find module '${request}'`);
    e.code = 'MODULE_NOT_FOUND';
    throw e;
  }
  return resolve.call(this, request, ...rest);
};
