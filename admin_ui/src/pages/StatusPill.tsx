// A status in words with a coloured dot: the text stays dark on white, so it reads at 4.5:1 or
// more whatever the colour (a light badge's coloured text on its tint does not: yellow is 2.7:1).
import { Badge, type MantineColor } from "@mantine/core";

export function StatusPill({ words, color }: { words: string; color: MantineColor }) {
  return (
    <Badge variant="dot" color={color} data-testid="status" styles={{ root: { textTransform: "none" } }}>
      {words}
    </Badge>
  );
}
