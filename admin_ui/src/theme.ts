import { createTheme, DEFAULT_THEME, Modal, type CSSVariablesResolver } from "@mantine/core";

// Text on white at 4.5:1 or more (WCAG AA): the primary teal at its darkest shade (#087f5b,
// 5.2:1; the default shade #12b886 is 2.55:1) and dimmed text one grey darker (#495057; the
// default #868e96 is 3.32:1).
export const theme = createTheme({
  primaryColor: "teal",
  primaryShade: { light: 9, dark: 7 },
  defaultRadius: "md",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  // Every dialog's ✕ is named for a screen reader (Mantine's has no name of its own).
  components: { Modal: Modal.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close" } } }) },
});

// The light variant (status badges, the menu's current screen, light buttons): a colour's
// lightest shade behind its darkest, darkened further, at 4.5:1 or more for every colour
// (Mantine's default, shade 6 or so on shade 1, is 2-4:1). Teal keeps its own #087f5b on
// #e6fcf5 (4.7:1). A field's error is red's darkest shade (#c92a2a, 5.4:1; the default #fa5252
// is 3.3:1).
const lightVariants = Object.fromEntries(
  Object.keys(DEFAULT_THEME.colors).flatMap((c) => [
    [`--mantine-color-${c}-light`, `var(--mantine-color-${c}-0)`],
    [`--mantine-color-${c}-light-hover`, `var(--mantine-color-${c}-1)`],
    ...(c === "teal" ? [] : [[`--mantine-color-${c}-light-color`, `color-mix(in srgb, var(--mantine-color-${c}-9), black 35%)`]]),
  ]),
);

export const cssVariables: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    ...lightVariants,
    "--mantine-color-dimmed": "#495057",
    "--mantine-color-error": "var(--mantine-color-red-9)",
  },
  dark: {},
});
