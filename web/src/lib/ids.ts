// The API's ids are UUIDs: anything else in an address names nothing, and is
// not sent to the server.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(id: string | null | undefined): id is string {
  return typeof id === "string" && UUID.test(id);
}
