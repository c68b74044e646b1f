import { Link } from "react-router";
import { t } from "../strings";
import { Empty, Screen } from "../ui";

export default function NotFound() {
  return (
    <Screen title={t("catalog.notFound")}>
      <Empty action={<Link to="/">{t("cart.browse")}</Link>}>{t("catalog.notFound")}</Empty>
    </Screen>
  );
}
