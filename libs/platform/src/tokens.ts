/** Injection tokens for platform-provided values. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
export const LOGGER = Symbol('LOGGER');
