// Vite's `?raw` imports (a file's text), used by the demo tests to read demo/ files in workerd.
declare module '*?raw' {
  const text: string
  export default text
}
