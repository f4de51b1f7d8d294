/** color-name ships no types: the CSS named colours, each as [red, green, blue] from 0 to 255. */
declare module 'color-name' {
  const colours: Readonly<Record<string, readonly [number, number, number]>>;
  export default colours;
}
