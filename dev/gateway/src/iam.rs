//! template.yaml's DynamoDB grants per function, which the gateway holds
//! every function's requests to (see `shared::store::iam`): locally, as in
//! AWS, a request the function's policy does not allow fails.

use std::collections::{BTreeMap, BTreeSet};

use shared::store::iam::{Grants, Need, On};
use yaml_rust2::{Yaml, YamlLoader};

/// The template the gateway routes like.
pub fn template_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
}

/// The DynamoDB actions each function's policies allow (by its binary's
/// name), on the table (`!GetAtt Table.Arn`) and on its indexes
/// (`!Sub "${Table.Arn}/index/*"`). Other services' actions, and policy
/// templates (the bus's `EventBridgePutEventsPolicy`), are not DynamoDB's.
pub fn grants(template: &str) -> Result<Grants, String> {
    let docs = YamlLoader::load_from_str(template).map_err(|e| format!("template.yaml: {e}"))?;
    let root = docs.first().ok_or("template.yaml is empty")?;
    let resources = root["Resources"].as_hash().ok_or("template.yaml has no Resources")?;
    let mut grants = BTreeMap::new();
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap_or_default();
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .ok_or_else(|| format!("{name}: no BuildProperties.Binary"))?;
        let mut granted = BTreeSet::new();
        let statements = resource["Properties"]["Policies"]
            .as_vec()
            .into_iter()
            .flatten()
            .flat_map(|policy| policy["Statement"].as_vec().cloned().unwrap_or_default());
        for statement in statements {
            if statement["Effect"].as_str() != Some("Allow") {
                continue;
            }
            let list = |y: &Yaml| -> Vec<String> {
                match y {
                    Yaml::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
                    Yaml::String(one) => vec![one.clone()],
                    _ => Vec::new(),
                }
            };
            let on: Vec<On> = list(&statement["Resource"])
                .iter()
                .filter_map(|r| match r.as_str() {
                    "Table.Arn" => Some(On::Table),
                    "${Table.Arn}/index/*" => Some(On::Indexes),
                    _ => None,
                })
                .collect();
            for action in list(&statement["Action"]) {
                if action.starts_with("dynamodb:") {
                    granted.extend(on.iter().map(|on| Need::new(action.clone(), *on)));
                }
            }
        }
        grants.insert(binary.to_owned(), granted);
    }
    Ok(Grants(grants))
}

/// [`grants`] of the repository's template.yaml; `None` (logged) when it
/// cannot be read, as when the gateway runs away from its source tree.
pub fn template_grants() -> Option<Grants> {
    let path = template_path();
    let read = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e}", path.display()))
        .and_then(|text| grants(&text));
    match read {
        Ok(grants) => Some(grants),
        Err(error) => {
            tracing::warn!(%error, "no IAM check of DynamoDB requests: template.yaml not read");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_functions_dynamodb_actions_on_the_table_and_its_indexes() {
        let template = r#"
Resources:
  NotifierFunction:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: notifier } }
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:Query]
              Resource: [!GetAtt Table.Arn]
            - Effect: Allow
              Action: dynamodb:Query
              Resource: !Sub "${Table.Arn}/index/*"
            - Effect: Allow
              Action: [secretsmanager:GetSecretValue]
              Resource: !Ref CursorSecret
        - EventBridgePutEventsPolicy: { EventBusName: !Ref EventBus }
  Table:
    Type: AWS::DynamoDB::Table
"#;
        let grants = grants(template).unwrap();
        let expected = BTreeSet::from([
            Need::new("dynamodb:GetItem", On::Table),
            Need::new("dynamodb:Query", On::Table),
            Need::new("dynamodb:Query", On::Indexes),
        ]);
        assert_eq!(grants.0, BTreeMap::from([("notifier".to_owned(), expected)]));
    }

    #[test]
    fn the_repositorys_template_is_read() {
        let grants = template_grants().expect("template.yaml is read");
        assert!(grants.0.contains_key("tenants") && grants.0.contains_key("notifier"));
    }
}
