// Filled in with the PostgreSQL provisioning (DATABASE_URL, testcontainers, embedded).
export default async function setup(): Promise<void> {}
