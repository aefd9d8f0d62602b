// Makes `require('vscode')` return the fake (import this before any module that imports vscode).
import Module from 'node:module';
import * as fake from './fakeVscode';

const loader = Module as unknown as { _load(request: string, ...rest: unknown[]): unknown };
const load = loader._load;
loader._load = function (request: string, ...rest: unknown[]) {
  return request === 'vscode' ? fake : load.call(this, request, ...rest);
};
