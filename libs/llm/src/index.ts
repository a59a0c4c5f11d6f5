export * from './classify-llm-error';
export * from './llm-circuit';
export * from './llm-pricing';
export * from './llm.client';
export * from './structured-output';
