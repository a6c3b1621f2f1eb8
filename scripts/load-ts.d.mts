export function loadTs(entry: string): Promise<any>
