//! Flattens a tree into lines with their indentation guides (`├─`, `└─`, or ASCII `|-`,
//! `` `- ``), skipping the children of collapsed nodes.

use std::collections::BTreeSet;

use super::Glyphs;

/// A tree whose nodes have children.
pub trait TreeNode {
    /// The node's children.
    fn children(&self) -> &[Self]
    where
        Self: Sized;
}

/// One visible line of a flattened tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeLine<'a, T> {
    /// The node.
    pub node: &'a T,
    /// The guide drawn before it (`│  └─ `).
    pub prefix: String,
    /// Its path of child indices from the root list (stable across refreshes).
    pub path: Vec<usize>,
    /// Whether it has children that are hidden.
    pub collapsed: bool,
}

/// The visible lines of `roots`; nodes whose path is in `collapsed` hide their children.
#[must_use]
pub fn flatten<'a, T: TreeNode>(
    roots: &'a [T],
    collapsed: &BTreeSet<Vec<usize>>,
    glyphs: Glyphs,
) -> Vec<TreeLine<'a, T>> {
    let mut lines = Vec::new();
    walk(roots, collapsed, glyphs, &mut Vec::new(), "", &mut lines);
    lines
}

fn walk<'a, T: TreeNode>(
    nodes: &'a [T],
    collapsed: &BTreeSet<Vec<usize>>,
    glyphs: Glyphs,
    path: &mut Vec<usize>,
    indent: &str,
    lines: &mut Vec<TreeLine<'a, T>>,
) {
    let (branch, last, pipe, blank) = match glyphs {
        Glyphs::Unicode => ("├─ ", "└─ ", "│  ", "   "),
        Glyphs::Ascii => ("|- ", "`- ", "|  ", "   "),
    };
    let top = path.is_empty();
    for (i, node) in nodes.iter().enumerate() {
        path.push(i);
        let is_last = i + 1 == nodes.len();
        let prefix = if top {
            String::new()
        } else {
            format!("{indent}{}", if is_last { last } else { branch })
        };
        let hidden = collapsed.contains(path) && !node.children().is_empty();
        lines.push(TreeLine {
            node,
            prefix,
            path: path.clone(),
            collapsed: hidden,
        });
        if !hidden {
            let child_indent = if top {
                String::new()
            } else {
                format!("{indent}{}", if is_last { blank } else { pipe })
            };
            walk(
                node.children(),
                collapsed,
                glyphs,
                path,
                &child_indent,
                lines,
            );
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Node(&'static str, Vec<Node>);

    impl TreeNode for Node {
        fn children(&self) -> &[Self] {
            &self.1
        }
    }

    fn sample() -> Vec<Node> {
        vec![Node(
            "root",
            vec![
                Node("a", vec![Node("a1", vec![])]),
                Node("b", vec![Node("b1", vec![])]),
            ],
        )]
    }

    fn drawn(lines: &[TreeLine<'_, Node>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| format!("{}{}", l.prefix, l.node.0))
            .collect()
    }

    #[test]
    fn guides_show_the_structure() {
        let roots = sample();
        let lines = flatten(&roots, &BTreeSet::new(), Glyphs::Unicode);
        assert_eq!(
            drawn(&lines),
            ["root", "├─ a", "│  └─ a1", "└─ b", "   └─ b1"]
        );
        let ascii = flatten(&roots, &BTreeSet::new(), Glyphs::Ascii);
        assert_eq!(drawn(&ascii)[2], "|  `- a1");
    }

    #[test]
    fn collapsed_nodes_hide_their_children() {
        let roots = sample();
        let collapsed = BTreeSet::from([vec![0, 0]]);
        let lines = flatten(&roots, &collapsed, Glyphs::Unicode);
        assert_eq!(drawn(&lines), ["root", "├─ a", "└─ b", "   └─ b1"]);
        assert!(lines[1].collapsed);
    }
}
