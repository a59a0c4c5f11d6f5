export * from './admin-audit';
export * from './admin-commands.service';
