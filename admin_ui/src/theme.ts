import {
  createTheme,
  darken,
  defaultVariantColorsResolver,
  Modal,
  parseThemeColor,
  type CSSVariablesResolver,
  type VariantColorsResolver,
} from "@mantine/core";

// Text at 4.5:1 or more (WCAG AA): the primary teal at its darkest shade (#087f5b, 5.2:1 on white;
// the default shade #12b886 is 2.55:1), dimmed text one grey darker (#495057; the default #868e96
// is 3.32:1), a field's error in red's darkest shade (#c92a2a, 5.4:1; the default #fa5252 is
// 3.3:1), and light variants (badges, the active menu item, light buttons) written in each
// colour's darkest shade taken darker still: yellow-9 on yellow's light tint is only 2.9:1.
const lightText: VariantColorsResolver = (input) => {
  const colors = defaultVariantColorsResolver(input);
  if (input.variant !== "light") return colors;
  const parsed = parseThemeColor({ color: input.color ?? input.theme.primaryColor, theme: input.theme });
  if (!parsed.isThemeColor) return colors;
  return { ...colors, color: darken(input.theme.colors[parsed.color][9], 0.4) };
};

export const theme = createTheme({
  primaryColor: "teal",
  primaryShade: { light: 9, dark: 7 },
  defaultRadius: "md",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  variantColorResolver: lightText,
  // Every dialog's ✕ is named for a screen reader (Mantine's has no name of its own).
  components: { Modal: Modal.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close" } } }) },
});

export const cssVariables: CSSVariablesResolver = (resolved) => ({
  variables: {},
  light: {
    "--mantine-color-dimmed": "#495057",
    "--mantine-color-error": "var(--mantine-color-red-9)",
    "--mantine-primary-color-light-color": darken(resolved.colors[resolved.primaryColor][9], 0.4),
    // A placeholder drawn as text (the date pickers'): #6c757d, 4.7:1 (Mantine's gray.5 is 2.1:1).
    "--mantine-color-placeholder": "#6c757d",
    // A hovered filled button darkens (Mantine lightens shade 9 to 8: 3.95:1 under white for teal).
    "--mantine-primary-color-filled-hover": darken(resolved.colors[resolved.primaryColor][9], 0.2),
    ...Object.fromEntries(
      Object.keys(resolved.colors).map((c) => [`--mantine-color-${c}-filled-hover`, darken(resolved.colors[c][9], 0.2)]),
    ),
  },
  dark: {},
});
