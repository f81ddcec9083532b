//! A schema-checked value tree: what a SOAP body or an SBA payload becomes once read, and what
//! responses are built from before the schema writes them out (in WSDL order) as XML or JSON.

use crate::xmldom::Element;

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum Node {
    /// Absent on purpose: `xsi:nil="true"` or JSON `null`.
    #[default]
    Nil,
    /// A simple value in its XML lexical form (`100.00`, `true`, `2026-01-31T00:00:00`).
    Text(String),
    /// Members in document order; repeated names are array items. Attributes use `@name`.
    Tree(Vec<(String, Node)>),
    /// `xs:any` content, kept as parsed XML (never stored).
    #[serde(skip)]
    Any(Vec<Element>),
}

impl Node {
    pub fn tree() -> Self {
        Node::Tree(Vec::new())
    }

    pub fn text(s: impl Into<String>) -> Self {
        Node::Text(s.into())
    }

    /// Adds a member (builder style).
    pub fn with(mut self, name: &str, value: impl Into<Node>) -> Self {
        self.push(name, value.into());
        self
    }

    /// Adds a member only when there is a value.
    pub fn with_opt(self, name: &str, value: Option<impl Into<Node>>) -> Self {
        match value {
            Some(v) => self.with(name, v),
            None => self,
        }
    }

    pub fn push(&mut self, name: &str, value: Node) {
        if let Node::Tree(members) = self {
            members.push((name.to_string(), value));
        } else {
            *self = Node::Tree(vec![(name.to_string(), value)]);
        }
    }

    /// A wrapper holding `items` under `item_name` (the shape of the `ArrayOfX` types).
    pub fn list(item_name: &str, items: impl IntoIterator<Item = Node>) -> Self {
        Node::Tree(items.into_iter().map(|i| (item_name.to_string(), i)).collect())
    }

    pub fn get(&self, name: &str) -> Option<&Node> {
        match self {
            Node::Tree(members) => members.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        let members: &[(String, Node)] = match self {
            Node::Tree(m) => m,
            _ => &[],
        };
        members.iter().filter(move |(n, _)| n == name).map(|(_, v)| v)
    }

    /// Follows a member path; `None` if any step is missing or nil.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, step| node.get(step)).filter(|n| !n.is_nil())
    }

    /// The simple value at `path`, if present and not nil.
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        match self.at(path)? {
            Node::Text(s) => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Node::Nil)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for Node {
    fn from(s: &str) -> Self {
        Node::Text(s.to_string())
    }
}

impl From<String> for Node {
    fn from(s: String) -> Self {
        Node::Text(s)
    }
}

impl From<&String> for Node {
    fn from(s: &String) -> Self {
        Node::Text(s.clone())
    }
}

impl From<bool> for Node {
    fn from(b: bool) -> Self {
        Node::Text(if b { "true" } else { "false" }.to_string())
    }
}

impl From<i64> for Node {
    fn from(n: i64) -> Self {
        Node::Text(n.to_string())
    }
}

impl From<i32> for Node {
    fn from(n: i32) -> Self {
        Node::Text(n.to_string())
    }
}
