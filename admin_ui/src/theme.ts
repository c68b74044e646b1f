import { createTheme, darken, type CSSVariablesResolver } from "@mantine/core";

// Text on white at 4.5:1 or more (WCAG AA): the primary teal at its darkest shade (#087f5b,
// 5.2:1; the default shade #12b886 is 2.55:1) and dimmed text one grey darker (#495057; the
// default #868e96 is 3.32:1).
export const theme = createTheme({
  primaryColor: "teal",
  primaryShade: { light: 9, dark: 7 },
  defaultRadius: "md",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
});

// The light variant (status badges, an active menu entry, light buttons) puts a colour's shade 9
// on its shade 1, which is under 4.5:1 for teal (4.3), green (4.1), orange (4.0), lime (3.5) and
// yellow (2.8): here its text is shade 9 darkened by 30% on shade 0 (5.3:1 for yellow, the
// lowest). A hovered filled button darkens (Mantine lightens shade 9 to shade 8: 3.95:1 under
// white for teal).
export const cssVariables: CSSVariablesResolver = (t) => ({
  variables: {},
  light: {
    "--mantine-color-dimmed": "#495057",
    // A placeholder drawn as text (the date pickers'): #6c757d, 4.7:1 (Mantine's gray.5 is 2.1:1).
    "--mantine-color-placeholder": "#6c757d",
    ...Object.fromEntries(
      Object.keys(t.colors).flatMap((c) => [
        [`--mantine-color-${c}-light`, `var(--mantine-color-${c}-0)`],
        [`--mantine-color-${c}-light-hover`, `var(--mantine-color-${c}-1)`],
        [`--mantine-color-${c}-light-color`, darken(t.colors[c][9], 0.3)],
        [`--mantine-color-${c}-filled-hover`, darken(t.colors[c][9], 0.2)],
      ]),
    ),
  },
  dark: {},
});
