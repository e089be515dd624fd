import IdeLoader from "./ide/IdeLoader";

export default function Page() {
  return <IdeLoader />;
}
