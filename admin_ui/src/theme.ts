import { createTheme, type CSSVariablesResolver } from "@mantine/core";

// Text on white at 4.5:1 or more (WCAG AA): the primary teal at its darkest shade (#087f5b,
// 5.2:1; the default shade #12b886 is 2.55:1) and dimmed text one grey darker (#495057; the
// default #868e96 is 3.32:1). The light variant's tint (the active menu item, light buttons) is
// teal's palest (#e6fcf5: teal text on it 4.7:1; on the default #c3fae8 only 4.3:1).
export const theme = createTheme({
  primaryColor: "teal",
  primaryShade: { light: 9, dark: 7 },
  defaultRadius: "md",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
});

export const cssVariables: CSSVariablesResolver = () => ({
  variables: {},
  light: { "--mantine-color-dimmed": "#495057", "--mantine-color-teal-light": "var(--mantine-color-teal-0)" },
  dark: {},
});
