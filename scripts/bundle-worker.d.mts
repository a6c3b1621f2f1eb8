export function bundleWorker(options?: { outfile?: string }): Promise<string>
