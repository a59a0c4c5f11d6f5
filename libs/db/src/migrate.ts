// placeholder, replaced by the data-model commit
export async function migrateDatabase(_url: string): Promise<void> {}
