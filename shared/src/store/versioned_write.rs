//! The three conditional writes of a versioned item (a tenant, a subtenant),
//! as one value, so a write says which it is instead of leaving it to which
//! of "before" and "after" happens to be set.

/// A create, an update or a delete of one item of type `T`.
#[derive(Debug)]
pub(crate) enum VersionedWrite<'a, T> {
    /// The key must be free.
    Create(&'a T),
    /// The stored version must still be `current`'s.
    Update { current: &'a T, next: &'a T },
    /// The stored version must still be `current`'s (and whatever else the
    /// write adds, such as a tenant having no children).
    Delete(&'a T),
}

// By hand: a derive would ask `T: Copy`, though only references are copied.
impl<T> Clone for VersionedWrite<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for VersionedWrite<'_, T> {}

impl<'a, T> VersionedWrite<'a, T> {
    /// The item as stored before the write (`None`: a create).
    pub(crate) fn before(self) -> Option<&'a T> {
        match self {
            Self::Create(_) => None,
            Self::Update { current, .. } | Self::Delete(current) => Some(current),
        }
    }

    /// The item as stored after the write (`None`: a delete).
    pub(crate) fn after(self) -> Option<&'a T> {
        match self {
            Self::Create(next) | Self::Update { next, .. } => Some(next),
            Self::Delete(_) => None,
        }
    }

    /// The item the write is about (the same key on both sides): the new
    /// one where there is one.
    pub(crate) fn item(self) -> &'a T {
        match self {
            Self::Create(item) | Self::Update { next: item, .. } | Self::Delete(item) => item,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::VersionedWrite;

    #[test]
    fn each_write_says_what_is_stored_before_and_after_it() {
        let (old, new) = (1, 2);
        let create = VersionedWrite::Create(&new);
        let update = VersionedWrite::Update {
            current: &old,
            next: &new,
        };
        let delete = VersionedWrite::Delete(&old);
        assert_eq!((create.before(), create.after(), create.item()), (None, Some(&2), &2));
        assert_eq!(
            (update.before(), update.after(), update.item()),
            (Some(&1), Some(&2), &2)
        );
        assert_eq!((delete.before(), delete.after(), delete.item()), (Some(&1), None, &1));
    }
}
