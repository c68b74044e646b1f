import { Link } from "react-router";
import { t } from "../strings";
import { Empty, Screen } from "../ui";

export default function NotFound() {
  return (
    <Screen title={t("states.notFound")}>
      <Empty action={<Link to="/">{t("states.home")}</Link>}>{t("states.notFound")}</Empty>
    </Screen>
  );
}
