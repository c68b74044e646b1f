// A status in the words the screen chose, with a coloured dot: the text stays dark on white (the
// colour is the dot's alone), beside StatusBadge, which words an API status itself.
import { Badge, type MantineColor } from "@mantine/core";

export function StatusPill({ words, color }: { words: string; color: MantineColor }) {
  return (
    <Badge variant="dot" color={color} data-testid="status" styles={{ root: { textTransform: "none" } }}>
      {words}
    </Badge>
  );
}
